"""Discrete-event and Monte Carlo simulations that chapters and labs share."""
