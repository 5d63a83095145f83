"""Salesforce: connector, auth, errors table, ids, SOQL literals."""
