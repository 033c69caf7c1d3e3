"""The atlas explorer: the plotly figure of a view with its layers, and search by nerve or condition."""
