"""Atlas explorer page."""

import streamlit as st

st.title("Atlas explorer")
st.info("The atlas is being assembled.")
