"""Platform-wide settings admins change without a deploy (dispute windows, …): typed values with
defaults, read through one function. Part of issue 12; see the functions below as they land."""
