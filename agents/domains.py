"""The domains of the catalog. A catalog file naming any other domain is refused."""

DOMAINS = {
    "regulatory_affairs": "Regulatory Affairs",
    "clinical_development": "Clinical Development",
    "biostatistics": "Biostatistics",
    "pharmacovigilance": "Pharmacovigilance and Drug Safety",
    "medical_affairs": "Medical Affairs",
    "market_access": "Market Access, Pricing and HEOR",
    "commercial": "Commercial Strategy and Marketing",
    "cmc_quality": "CMC, Manufacturing and Quality",
    "digital_health": "Digital Health and AI",
    "data_privacy": "Data Privacy and Health Data Governance",
    "legal_compliance": "Legal and Compliance",
    "business_development": "Business Development and Transactions",
    "patient_advocacy_ethics": "Patient Advocacy, Engagement and Ethics",
    "therapeutic_areas": "Therapeutic Area Experts",
}

DISPOSITIONS = ("advocate", "skeptic", "balanced")
