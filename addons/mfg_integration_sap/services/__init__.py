# Transport and conversion code without ORM; imported by the models explicitly.
