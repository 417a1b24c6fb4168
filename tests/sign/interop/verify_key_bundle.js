// Verify a lockdown key bundle with sigstore-js (@sigstore/verify), as a third party would.
//
//   NODE_PATH=<prefix>/node_modules node verify_key_bundle.js FILE BUNDLE PUBLIC_KEY_PEM
//
// The trusted key is looked up by the hint sigstore-js computes itself from the
// PEM (base64 of sha256 of the DER SubjectPublicKeyInfo), so a bundle whose hint
// follows another convention fails with "key not found". No Sigstore instance is
// trusted (empty root) and no tlog entry, SCT or timestamp is required: the
// public key is the whole trust. Prints "verified" and exits 0, or prints
// "<code>: <message>" and exits 1.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

function main([filePath, bundlePath, keyPath]) {
  const artifact = fs.readFileSync(filePath);
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const der = crypto
    .createPublicKey(fs.readFileSync(keyPath, 'utf8'))
    .export({ type: 'spki', format: 'der' });
  const hint = crypto.createHash('sha256').update(der).digest('base64');

  const emptyRoot = { certificateAuthorities: [], timestampAuthorities: [], tlogs: [], ctlogs: [] };
  const trust = toTrustMaterial(emptyRoot, { [hint]: { rawBytes: der } });
  const verifier = new Verifier(trust, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0, // @sigstore/verify 3.x; older releases call it tsaThreshold
    tsaThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle, artifact));
}

try {
  main(process.argv.slice(2));
  console.log('verified');
} catch (err) {
  console.log(`${err.code || err.name}: ${err.message}`);
  process.exit(1);
}
