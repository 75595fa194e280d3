from sqlalchemy import Boolean, Column, Integer, String

from app.db import Base


class User(Base):
    __tablename__ = "users"

    id = Column(Integer, primary_key=True)
    email = Column(String, unique=True, nullable=False)
    stripe_customer_id = Column(String, unique=True, index=True)
    plan = Column(String, nullable=False, default="free")
    is_pro = Column(Boolean, nullable=False, default=False)
