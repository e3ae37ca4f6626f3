"""Quality checks and scoring (issue 3): pure functions over plain data."""
