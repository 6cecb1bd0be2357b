"""The web service: pages for each role and the JSON API (`from carebudget.web.app import create_app`)."""
