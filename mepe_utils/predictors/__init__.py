"""Predictors: saved MEPE models loaded, checked and ready to answer."""
