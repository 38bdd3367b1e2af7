"""Collection scorecards: each member's figures against the industry's quartiles, by branch and
by month; the association's league table, thresholds and their crossings."""
