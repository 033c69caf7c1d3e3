"""Quiz banks and questions."""
