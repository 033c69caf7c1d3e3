"""Streamlit entry point: ``streamlit run streamlit_app.py``. Pages live in trainer/ui/pages.

Streamlit runs this file as the page script on every rerun (``__name__ == "__main__"``). Before
that, ``streamlit run`` imports it once to find the server: an ``st.App`` that serves Streamlit
plus the app's own HTTP routes (trainer/ui/http_routes.py: what a phone in a class waits on).
"""

import streamlit as st

if __name__ == "__main__":
    from trainer.ui.app import run

    run()
else:
    from trainer.ui.http_routes import routes

    app = st.App(__file__, routes=routes(str(st.get_option("server.baseUrlPath") or "")))
