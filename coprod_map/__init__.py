"""coprod_map: map who is affected, who is involved, and the relationships between them.

Pure domain package: only ``coprod_map.ui`` imports Streamlit.
"""

__version__ = "0.1.0"
