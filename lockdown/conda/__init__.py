"""What is left of the conda stack while it folds into the layers: the command functions."""
