-- Everything the shop sells and every order it takes lives in the sales schema.
CREATE SCHEMA sales AUTHORIZATION dbo;
