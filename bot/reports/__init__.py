"""The monthly report for senior leaders and governors."""
