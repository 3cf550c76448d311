"""What the quality team watches: the Reaccreditation page's data and the alerts that need a person."""
