"""The organisation the quality team describes in one YAML file: its model, field types and season summary."""
