"""SBOM documents: an :class:`~lockdown.lock.export.Inventory` as CycloneDX 1.6 or SPDX 2.3 JSON.

Both are built with the formats' own libraries (cyclonedx-python-lib,
spdx-tools; the ``sbom`` extra), imported only here and only when a document
is made. The bytes depend on the inventory alone: the serial number and the
SPDX namespace derive from the lock's sha256 and the scope exported, the
timestamp is the lock's own, and every list is sorted.

How a lock maps onto each format:

- a locked package is a component (CycloneDX) / package (SPDX) with its purl;
- each pinned file is a ``distribution`` external reference carrying the
  file's digests (CycloneDX), or, when a package has several files, an SPDX
  package of its own (file name, download location, checksums) that the
  package ``CONTAINS``; a package with one file carries it directly;
- the lock's dependency graph is ``dependencies`` / ``DEPENDS_ON``; a lock
  that records none gives none (an empty ``dependsOn`` would claim "no
  dependencies");
- licenses are those the package metadata declares, never concluded;
- verified publisher identities are ``lockdown:attestation-identity``
  properties (CycloneDX) / annotations (SPDX), one compact JSON object each.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from lockdown import __version__
from lockdown.errors import LockdownError, UsageError

if TYPE_CHECKING:
    from lockdown.lock.export import DeclaredLicense, Inventory, SbomComponent

SbomFormat = Literal["cyclonedx", "spdx"]

#: The property / annotation name for a verified publisher identity.
IDENTITY_PROPERTY = "lockdown:attestation-identity"

#: Names lockdown's serial numbers and SPDX namespaces are derived under (uuid5).
_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:lockdown:sbom")


def require_sbom(fmt: SbomFormat) -> None:
    """Fail with one clear line when the ``sbom`` extra's library for ``fmt`` is missing.

    Only the format's own library is imported (spdx-tools alone costs half a
    second), so a CycloneDX export never pays for SPDX.
    """
    try:
        import packageurl  # noqa: F401, PLC0415

        if fmt == "cyclonedx":
            import cyclonedx.model.bom  # noqa: F401, PLC0415
        else:
            import spdx_tools.spdx.model  # noqa: F401, PLC0415
    except ImportError as exc:
        raise UsageError(
            "SBOM export needs cyclonedx-python-lib and spdx-tools "
            f"({(exc.name or 'a module').split('.')[0]} is missing)",
            hint="pip install 'lockdown[sbom]'",
        ) from None


def serial(inventory: Inventory, fmt: SbomFormat) -> uuid.UUID:
    """The document's UUID: the same lock and scope always give the same one."""
    return uuid.uuid5(_NAMESPACE, f"{fmt}:{inventory.lock_sha256}:{inventory.scope}")


def render_sbom(inventory: Inventory, fmt: SbomFormat) -> bytes:
    """The document's bytes (UTF-8 JSON, ending in a newline)."""
    require_sbom(fmt)
    text = render_cyclonedx(inventory) if fmt == "cyclonedx" else render_spdx(inventory)
    return (text.rstrip("\n") + "\n").encode("utf-8")


def _identity(identity: Mapping[str, Any]) -> str:
    return json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)


# --- CycloneDX -------------------------------------------------------------------


def render_cyclonedx(inventory: Inventory) -> str:
    """CycloneDX 1.6 JSON for ``inventory``."""
    from cyclonedx.model.bom import Bom, BomMetaData  # noqa: PLC0415
    from cyclonedx.model.component import Component  # noqa: PLC0415
    from cyclonedx.model.tool import ToolRepository  # noqa: PLC0415
    from cyclonedx.output.json import JsonV1Dot6  # noqa: PLC0415

    from cyclonedx.model import Property  # noqa: PLC0415 # isort: skip

    components = {c.ref: _cdx_component(c) for c in inventory.components}
    tools = ToolRepository(components=[Component(name="lockdown", version=__version__)])
    bom = Bom(
        serial_number=serial(inventory, "cyclonedx"),
        metadata=BomMetaData(
            timestamp=inventory.timestamp,
            tools=tools,
            properties=[
                Property(name="lockdown:lock", value=inventory.source),
                Property(name="lockdown:lock-sha256", value=inventory.lock_sha256),
                Property(name="lockdown:scope", value=inventory.scope),
            ],
        ),
        components=components.values(),
    )
    for component in inventory.components:
        if component.dependencies is not None:
            bom.register_dependency(
                components[component.ref], [components[d] for d in component.dependencies]
            )
    document = json.loads(JsonV1Dot6(bom).output_as_string(indent=2))
    # The library lists every component in the graph, and an empty dependsOn
    # says "depends on nothing"; for a package whose lock entry records no
    # dependencies that would be invented, so its entry goes.
    unknown = {c.ref for c in inventory.components if c.dependencies is None}
    graph = [d for d in document.get("dependencies", []) if d.get("ref") not in unknown]
    if graph:
        document["dependencies"] = graph
    else:
        document.pop("dependencies", None)
    return json.dumps(document, indent=2)


def _cdx_hashes(hashes: Sequence[tuple[str, str]]) -> list[Any]:
    from cyclonedx.model import HashAlgorithm, HashType  # noqa: PLC0415

    algorithms = {"sha256": HashAlgorithm.SHA_256, "md5": HashAlgorithm.MD5}
    return [
        HashType(alg=algorithms[name], content=value)
        for name, value in hashes
        if name in algorithms
    ]


def _cdx_component(component: SbomComponent) -> Any:
    from cyclonedx.model import (  # noqa: PLC0415
        ExternalReference,
        ExternalReferenceType,
        Property,
        XsUri,
    )
    from cyclonedx.model.component import Component, ComponentType  # noqa: PLC0415
    from packageurl import PackageURL  # noqa: PLC0415

    references = [
        ExternalReference(
            type=ExternalReferenceType.DISTRIBUTION,
            url=XsUri(file.url),
            comment=file.filename,
            hashes=_cdx_hashes(file.hashes),
        )
        for file in component.files
    ]
    return Component(
        type=ComponentType.LIBRARY,
        name=component.name,
        version=component.version,
        bom_ref=component.ref,
        purl=PackageURL.from_string(component.purl),
        hashes=_cdx_hashes(component.files[0].hashes) if len(component.files) == 1 else None,
        licenses=_cdx_licenses(component.licenses),
        external_references=references,
        properties=[
            Property(name=IDENTITY_PROPERTY, value=_identity(i)) for i in component.publishers
        ],
    )


def _cdx_licenses(declared: Sequence[DeclaredLicense]) -> list[Any]:
    """An SPDX expression alone (CycloneDX allows one), else each named license."""
    from cyclonedx.contrib.license.exceptions import InvalidSpdxLicenseException  # noqa: PLC0415
    from cyclonedx.contrib.license.factories import LicenseFactory  # noqa: PLC0415
    from cyclonedx.model.license import LicenseAcknowledgement  # noqa: PLC0415

    factory = LicenseFactory()
    declared_ = LicenseAcknowledgement.DECLARED
    from cyclonedx.spdx import is_expression  # noqa: PLC0415

    for item in declared:
        if item.source == "expression" and is_expression(item.text):
            # A lone identifier is a license id; anything else an expression.
            return [factory.make_from_string(item.text, license_acknowledgement=declared_)]
    licenses = []
    for item in declared:
        try:
            licenses.append(factory.make_with_id(item.text, acknowledgement=declared_))
        except InvalidSpdxLicenseException:
            licenses.append(factory.make_with_name(item.text, acknowledgement=declared_))
    return licenses


# --- SPDX ------------------------------------------------------------------------

_NOT_ID = re.compile(r"[^A-Za-z0-9.-]+")


def _spdx_valid(expression: str) -> bool:
    """Whether ``expression`` is an SPDX license expression of listed identifiers."""
    from license_expression import ExpressionError  # noqa: PLC0415
    from spdx_tools.common.spdx_licensing import spdx_licensing  # noqa: PLC0415

    try:
        info = spdx_licensing.validate(expression, strict=False)
    except ExpressionError:
        return False
    return not info.errors and not info.invalid_symbols


def _spdx_id(text: str) -> str:
    return _NOT_ID.sub("-", text).strip("-") or "x"


def render_spdx(inventory: Inventory) -> str:
    """SPDX 2.3 JSON for ``inventory``, checked by spdx-tools' validation as it is written."""
    import io  # noqa: PLC0415

    from spdx_tools.spdx.model import (  # noqa: PLC0415
        Actor,
        ActorType,
        CreationInfo,
        Document,
        Relationship,
        RelationshipType,
    )
    from spdx_tools.spdx.validation.document_validator import (  # noqa: PLC0415
        validate_full_spdx_document,
    )
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream  # noqa: PLC0415

    tool = Actor(ActorType.TOOL, f"lockdown-{__version__}")
    ids = {
        c.ref: f"SPDXRef-Package-{n}-{_spdx_id(c.name)}"
        for n, c in enumerate(inventory.components, start=1)
    }
    document = Document(
        creation_info=CreationInfo(
            spdx_version="SPDX-2.3",
            spdx_id="SPDXRef-DOCUMENT",
            name=f"{inventory.source} ({inventory.scope})",
            document_namespace=f"urn:uuid:{serial(inventory, 'spdx')}",
            creators=[tool],
            created=inventory.timestamp.replace(microsecond=0),
            creator_comment=f"exported by lockdown from {inventory.source} "
            f"(sha256 {inventory.lock_sha256}), {inventory.scope}",
        )
    )
    licenses: dict[str, Any] = {}
    for component in inventory.components:
        own = ids[component.ref]
        document.packages.extend(_spdx_packages(component, own, licenses))
        document.relationships.append(
            Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, own)
        )
        if len(component.files) > 1:
            document.relationships.extend(
                Relationship(own, RelationshipType.CONTAINS, f"{own}-file-{k}")
                for k in range(1, len(component.files) + 1)
            )
        document.relationships.extend(
            Relationship(own, RelationshipType.DEPENDS_ON, ids[d])
            for d in component.dependencies or ()
        )
        document.annotations.extend(_spdx_annotations(component, own, tool, inventory))
    document.extracted_licensing_info = [licenses[k] for k in sorted(licenses)]
    problems = validate_full_spdx_document(document)
    if problems:
        raise LockdownError(
            f"the SPDX document for {inventory.source} does not validate: "
            f"{problems[0].validation_message}",
            hint="this is a bug in lockdown; please report it with the lock",
        )
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=False)
    return stream.getvalue()


def _spdx_packages(component: SbomComponent, own: str, licenses: dict[str, Any]) -> list[Any]:
    from spdx_tools.spdx.model import (  # noqa: PLC0415
        Checksum,
        ChecksumAlgorithm,
        ExternalPackageRef,
        ExternalPackageRefCategory,
        Package,
        PackagePurpose,
        SpdxNoAssertion,
    )
    from spdx_tools.spdx.validation.uri_validators import (  # noqa: PLC0415
        validate_download_location,
    )

    algorithms = {"sha256": ChecksumAlgorithm.SHA256, "md5": ChecksumAlgorithm.MD5}

    def location(url: str) -> tuple[Any, str | None]:
        # SPDX's download-location pattern wants a host with a top-level domain;
        # a file:// channel or an index on 127.0.0.1 is kept as source info instead.
        if not validate_download_location(url):
            return url, None
        return SpdxNoAssertion(), f"downloaded from {url}"

    def checksums(hashes: Sequence[tuple[str, str]]) -> list[Any]:
        return [Checksum(algorithms[n], v) for n, v in hashes if n in algorithms]

    single = component.files[0] if len(component.files) == 1 else None
    declared, comment = _spdx_license(component.licenses, licenses)
    where, source = location(single.url) if single else (SpdxNoAssertion(), None)
    package = Package(
        spdx_id=own,
        name=component.name,
        version=component.version,
        download_location=where,
        source_info=source,
        file_name=single.filename if single else None,
        files_analyzed=False,
        checksums=checksums(single.hashes) if single else [],
        license_declared=declared,
        license_concluded=SpdxNoAssertion(),
        license_comment=comment,
        copyright_text=SpdxNoAssertion(),
        external_references=[
            ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", component.purl)
        ],
        primary_package_purpose=PackagePurpose.LIBRARY,
    )
    packages = [package]
    if single is None:
        for k, file in enumerate(component.files, start=1):
            where, source = location(file.url)
            packages.append(
                Package(
                    spdx_id=f"{own}-file-{k}",
                    name=component.name,
                    version=component.version,
                    download_location=where,
                    source_info=source,
                    file_name=file.filename,
                    files_analyzed=False,
                    checksums=checksums(file.hashes),
                    license_declared=declared,
                    license_concluded=SpdxNoAssertion(),
                    copyright_text=SpdxNoAssertion(),
                    primary_package_purpose=(
                        PackagePurpose.INSTALL
                        if file.filename.endswith(".whl")
                        else PackagePurpose.SOURCE
                    ),
                )
            )
    return packages


def _spdx_license(
    declared: Sequence[DeclaredLicense], licenses: dict[str, Any]
) -> tuple[Any, str | None]:
    """(licenseDeclared, licenseComments) from what the metadata declares.

    The strongest source decides: ``License-Expression``, else the ``License``
    field, else a single ``License ::`` classifier; a name that is not an SPDX
    identifier becomes a ``LicenseRef-`` with the name as its text. Several
    classifiers and nothing stronger: NOASSERTION, for how they combine is not
    for lockdown to say. The comment lists everything declared when there is
    more than the one used.
    """
    from spdx_tools.common.spdx_licensing import spdx_licensing  # noqa: PLC0415
    from spdx_tools.spdx.model import ExtractedLicensingInfo, SpdxNoAssertion  # noqa: PLC0415

    if not declared:
        return SpdxNoAssertion(), None
    comment = None
    if len(declared) > 1:
        comment = "declared by the package metadata: " + "; ".join(
            f"{item.source}: {item.text}" for item in declared
        )
    first = declared[0]
    if first.source == "classifier" and len(declared) > 1:
        return SpdxNoAssertion(), comment
    if _spdx_valid(first.text):
        return spdx_licensing.parse(first.text), comment
    ref = f"LicenseRef-{_spdx_id(first.text)}"
    licenses[ref] = ExtractedLicensingInfo(
        license_id=ref,
        extracted_text=first.text,
        license_name=first.text,
        comment="as declared by the package metadata",
    )
    return spdx_licensing.parse(ref), comment


def _spdx_annotations(
    component: SbomComponent, own: str, tool: Any, inventory: Inventory
) -> list[Any]:
    from spdx_tools.spdx.model import Annotation, AnnotationType  # noqa: PLC0415

    return [
        Annotation(
            own,
            AnnotationType.OTHER,
            tool,
            inventory.timestamp.replace(microsecond=0),
            f"{IDENTITY_PROPERTY} {_identity(identity)}",
        )
        for identity in component.publishers
    ]
