"""The authorization matrix (``tests/test_authorization_matrix.py``): who may
open and change what, for every address of the site and every API operation.

- ``actors``: the people who knock on every door, and where each one stands.
- ``endpoints``: every address, read from the URL configuration and the API schema.
- ``circles``: two circles, A and B, full of real objects, and the values that
  fill an address's parameters.
- ``rules``: what each address is (public, a circle's page, a coordinator's page, ...)
  and what each kind of person must get there.
- ``checks``: judging one answer: its status, that a refusal changed nothing,
  that a hidden circle looks like no circle, and that nothing private leaks.
"""
