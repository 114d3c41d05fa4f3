"""Use cases shared by every face (CLI, web, demo): roles are checked and views audited here."""
