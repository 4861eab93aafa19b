"""Support of the authorization matrix and schemathesis tests: the API's operations, two
organizations with their people and keys, and factories of real resources for path ids."""
