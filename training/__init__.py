"""How the shipped recognizer weights and rules are made, reproducibly; bench/ only measures."""
