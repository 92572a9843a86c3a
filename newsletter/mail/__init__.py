"""Building and sending email: MIME messages, SMTP transports, rate limits."""
