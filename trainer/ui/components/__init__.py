"""Small inline Streamlit components (no npm build)."""
