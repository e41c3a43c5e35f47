"""Operations of the Plugin Service: each one validates, applies the rules and commits once."""
