"""Speed and memory figures, each measured beside a baseline in the same run (`make bench`)."""
