# ruff: noqa: E501
"""Write the sample files of tests/companies/test_import_samples.py (run once, files committed):

    python tests/companies/samples/make_samples.py

Each file is a shape supervisors really send: Excel's « CSV UTF-8 » (BOM) with « ; », Excel's
Windows CSV (Windows-1252), its Mac and MS-DOS variants, its « Texte Unicode » (UTF-16, tabs),
a file without header, quoted fields holding newlines, shuffled and missing columns, duplicates,
bad rows mixed with good ones, and several numbers with a contact person per company.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent


def write(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    data = text.replace("\n", newline).encode(encoding)
    (HERE / name).write_bytes(data)


FR_HEADER = "Raison sociale;Téléphone;Produit;Activité;Ville;Forme juridique;NIU;Score;Statut\n"

write(
    "bom_semicolon.csv",
    FR_HEADER
    + "Société Étoile du Wouri;+237 6 77 12 34 56;cacao;transformation;Douala;SARL;M012345678901A;72,5;À appeler\n"
    + "Coopérative Bénoué;699 88 77 66;maïs;production;Garoua;SCOOPS;P112233445566B;8,25;\n"
    + "GIE Kola Frères;00237655443322;kola;commerce;Yaoundé;GIE;D998877665544C;100;pending\n",
    encoding="utf-8-sig",
    newline="\r\n",
)

write(
    "windows1252_accents.csv",
    "name;phone;product;activity;location;legal_form;niu;validity_score;status\n"
    + "Société Œuvre Bénoué;677.11.22.33;café;torréfaction;Ngaoundéré;SARLU;M223344556677D;55,5;pending\n"
    + "Maison Façade Côtière;237-699112233;huile de palme;séchage;Édéa;ETS;P334455667788E;12;done\n",
    encoding="cp1252",
    newline="\r\n",
)

write(
    "no_header.csv",
    "Ets Soleil Sanaga,677223344,manioc,transformation,Kribi,SARL,M445566778899F,40.5,pending\n"
    + "Atelier Lobé,+237 6 99 22 33 44,miel,production,Limbé,EI,P556677889900G,60,callback\n",
)

write(
    "quoted_newlines.csv",
    "name,phone,product,activity,location,legal_form,niu,validity_score,status\n"
    + '"Groupe ""Mont Cameroun""\nsiège Buea",677334455,"lait, yaourt",production,Buea,SA,M667788990011H,33.3,pending\n'
    + "\n"
    + '"Entreprise Nyong",677445566,"café\nmoulu",commerce,Ebolowa,SARL,P778899001122J,,pending\n'
    + "\n\n"
    + ",677556677,soja,commerce,Bertoua,SA,D889900112233K,10,pending\n",
)

write(
    "tab.tsv",
    "Entreprise\tTel\tProduit\tActivite\tLocalisation\tNIU\n"
    + "Ets Horizon\t677667788\tarachide\texport\tMaroua\tM990011223344L\n"
    + "Maison Savane\t677778899\tpiment\tséchage\tDschang\tP001122334455M\n",
)

write(
    "excel_unicode.txt",
    "Entreprise\tTéléphone\tVille\n"
    + "Coopérative Émeraude\t677889900\tBafoussam\n"
    + "Société Forêt Océan\t677990011\tNkongsamba\n",
    encoding="utf-16",
    newline="\r\n",
)

write(
    "missing_shuffled.csv",
    "N° Téléphone;NIU;Nom de l'entreprise;Commentaire;Ville\n"
    + "677001122;M101010101010N;Ets Baobab;client fidèle;Douala\n"
    + "677002233;P202020202020P;Groupe Manguier;à rappeler après 14 h;Yaoundé\n",
)

write(
    "duplicates.csv",
    "name,phone,niu\n"
    + "Ets Prestige,677100200,M111111111111A\n"
    + "Ets Prestige bis,677100201,M111111111111A\n"
    + "Maison Union,+237 6 77 10 02 02,\n"
    + "Maison Union (doublon),677 10 02 02,\n"
    + "Atelier Réussite,677100203,P222222222222B\n",
)

write(
    "mixed_bad.csv",
    "name;phone;product;activity;location;legal_form;niu;validity_score;status\n"
    + "Bonne Entreprise 1;677200300;cacao;transformation;Douala;SARL;M300000000001A;50;pending\n"
    + ";677200301;cacao;transformation;Douala;SARL;M300000000002A;50;pending\n"
    + "Sans Téléphone;;cacao;transformation;Douala;SARL;M300000000003A;50;pending\n"
    + "Score Faux;677200303;cacao;transformation;Douala;SARL;M300000000004A;n/a;pending\n"
    + "Statut Inconnu;677200304;cacao;transformation;Douala;SARL;M300000000005A;50;peut-être\n"
    + "En Cours;677200305;cacao;transformation;Douala;SARL;M300000000006A;50;in_progress\n"
    + "Trop De Champs;677200306;cacao;transformation;Douala;SARL;M300000000007A;50;pending;en trop\n"
    + "Pas Assez;677200307;cacao\n"
    + "Numéro Bizarre;12;cacao;transformation;Douala;SARL;M300000000009A;50;pending\n"
    + "Rappel;677200309;cacao;transformation;Douala;SARL;M300000000010A;50;callback\n"
    + "Terminée;677200310;cacao;transformation;Douala;SARL;M300000000011A;50;done\n"
    + "Vides En Fin;677200311;cacao;transformation;Douala;SARL;M300000000012A;50;pending;;\n",
)

write(
    "mac_roman.csv",
    "name;phone;location\n"
    + "Société Générale Bénoué;677300400;Garoua\n"
    + "Crème Forêt;677300401;Édéa\n",
    encoding="mac_roman",
    newline="\r",
)

write(
    "dos_cp850.csv",
    "name;phone;location\n"
    + "Société Réussite;677300500;Yaoundé\n"
    + "Boulangerie Française;677300501;Limbé\n",
    encoding="cp850",
    newline="\r\n",
)

write(
    "sep_line.csv",
    "sep=;\n" + "name;phone;validity_score\n" + "Ets Sep Excel;677300600;1 234,5\n",
)

# Several numbers and a contact person per company, as Excel writes them in each encoding.
write(
    "extra_numbers_utf8.csv",
    "Raison sociale;Téléphone;Téléphone 2;Portable;Fax;Nom du contact;Fonction;Ligne directe;E-mail;Ville\n"
    + "Société Étoile du Wouri;677 12 34 56;233 42 11 00;699 11 22 33;233 42 11 01;Mme Ngo Bénoué;Directrice générale;655 44 33 22;ngo.benoue@etoile.cm;Douala\n"
    + "Coopérative Kola;699 88 77 66;;+237 6 99 88 77 66;;;;;;Garoua\n"
    + "GIE Frères Réunis;655 44 33 11;12;;;;Responsable qualité;;qualite@gie;Yaoundé\n"
    + "Ets Numéro en contact;677 00 11 22;;;;677 00 11 33;;;;Kribi\n",
    encoding="utf-8-sig",
    newline="\r\n",
)

write(
    "extra_numbers_cp1252.csv",
    "Entreprise;Tél.;Cellulaire;Télécopie;Interlocuteur;Poste;Téléphone du contact;Courriel;Localité\n"
    + "Société Œuvre Bénoué;677.11.22.33;699.00.11.22;233.11.22.33;M. Étienne Mbarga;Gérant;699.00.11.22;e.mbarga@oeuvre.cm;Ngaoundéré\n"
    + "Maison Façade Côtière;237-699112244;;;;;;;Édéa\n",
    encoding="cp1252",
    newline="\r\n",
)

write("header_only.csv", "name;phone;product\n", encoding="utf-8-sig")
write("blank.csv", "\n\n   \n")
(HERE / "empty.csv").write_bytes(b"")
(HERE / "image.csv").write_bytes(
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\nIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)
(HERE / "classeur.csv").write_bytes(
    b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xml" + bytes(range(256))
)
(HERE / "binary.csv").write_bytes(bytes((i * 37 + 11) % 256 for i in range(3000)))
write("no_phone_column.csv", "Entreprise;Ville\nEts Seule;Douala\n")
