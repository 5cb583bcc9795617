"""The shipped notebooks, installed with hhnb as the data package ``hhnb.notebooks`` (see ``hhnb.layout.notebooks_dir``)."""
