"""Domain logic of the catalogue, one module per concern."""
