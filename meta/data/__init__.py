"""Task samplers and dataset loaders. Every loader takes a path; nothing is downloaded."""
