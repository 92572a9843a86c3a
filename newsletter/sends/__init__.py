"""Sending an issue: lifecycle, audience, ledger, content variants, delivery.

Modules are imported one by one (`from newsletter.sends import lifecycle`); this
package imports nothing itself, so the composer and the sends can refer to each
other without an import cycle.
"""
