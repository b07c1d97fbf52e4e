"""Places on the map: geocoding a typed place (city, postcode, address) to a point, and distances.

Points are WGS 84 latitude/longitude in degrees; distances in km.
"""
