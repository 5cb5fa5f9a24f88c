"""Publishing the Who's Who whole: a web page, a printed easy-read booklet and an audio guide."""
