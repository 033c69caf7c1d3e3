"""Streamlit user interface. The only package (with streamlit_app.py) that imports streamlit."""
