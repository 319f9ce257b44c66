"""Reading and writing the formats people already use."""
