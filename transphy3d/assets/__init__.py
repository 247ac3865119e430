"""Static asset bank: meshes from files (BlenderKit downloads, shipped starter assets)."""
