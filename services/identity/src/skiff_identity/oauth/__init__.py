"""OAuth sign-in with GitHub and Google (authorization code, state and PKCE)."""
