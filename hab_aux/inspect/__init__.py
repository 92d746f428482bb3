"""Look at a dataset without the simulator: summary statistics, mask previews, videos, verification."""
