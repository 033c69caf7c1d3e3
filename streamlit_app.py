"""Streamlit entry point: ``streamlit run streamlit_app.py``. Pages live in trainer/ui/pages."""

from trainer.ui.app import run

run()
