"""Scoring answers in cm on the body (one scorer for Practice, live classes and the bench), and the reveal overlay drawn after scoring."""
