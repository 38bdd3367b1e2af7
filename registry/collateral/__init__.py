"""Vehicles pledged as collateral: double-pledge alerts and vehicle checks across members."""
