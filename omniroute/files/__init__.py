"""File loaders and checks for operators: cost models and catalogs (`cost_files`), sourcing rules
(`rule_files`), and the inventory ledger check behind `omniroute inventory verify` (`inventory_verify`)."""
