"""The parts of nlp.deidentify: import that module, not these (their interfaces may change).

engine    deduce, loaded once per process (cache, lock, logging)
patterns  identifiers with a fixed shape: phone, e-mail, URL, BSN, IBAN, postcode, plate, date,
          case numbers
names     person names: deduce's findings cleaned up, plus rules for what its lists miss
places    addresses, schools and institutions, ages
tokens    words with case and sentence-start facts; where keep-terms occur
spans     candidate spans and how overlaps are resolved
masking   placeholders and the validation of a teller's entity list
lexicon   word lists: keep-terms, titles, role words, extra names
"""
