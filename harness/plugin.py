"""pytest plugin: collects scenario files (placeholder until the plugin lands)."""
