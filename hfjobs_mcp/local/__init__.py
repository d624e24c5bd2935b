"""The local Jobs backend: the Jobs REST API on loopback, running jobs as local processes."""
