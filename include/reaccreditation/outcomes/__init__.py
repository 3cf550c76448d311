"""The assessor's outcomes: past ratings imported from a file, and the verdict entered after an assessment."""
