"""The only part of coprod_map that imports Streamlit: session state, caches and widgets."""
