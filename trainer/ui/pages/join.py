"""Join page (not built yet)."""

import streamlit as st

st.title("Join")
st.info("Not yet: this part of the trainer is still being built. The atlas explorer works today.")
