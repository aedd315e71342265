"""File formats: Fiji TileConfiguration, MIST global positions, BigStitcher pairwise results, CZI."""
