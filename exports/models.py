# The export app needs no tables: it reads calls and companies and writes files.
