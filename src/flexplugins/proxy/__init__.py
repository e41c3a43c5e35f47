"""The vendor proxy: an HTTP CONNECT proxy that terminates TLS for the vendor's host names and hands
each request to flexplugins' own application, so the vendor's command line, whose hosts are fixed,
works against this server unchanged. Nothing is ever forwarded off the machine."""
