"""Domain logic of the journey builder, one module per concern."""
