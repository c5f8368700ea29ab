"""Real architectures, exported and verified end to end."""
